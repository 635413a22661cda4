//! A revision file's checksum: what the run log records when a revision runs, so that a file
//! edited after it ran can be told apart (SPEC section 10, drift).
//!
//! SHA-256 of the file's bytes with a UTF-8 byte order mark dropped and every line ending
//! (`\r\n`, or a lone `\r`) written as `\n`: a checkout with CRLF line endings (git's
//! `core.autocrlf` on Windows) or an editor that adds a BOM does not change what ran, so it is
//! not drift. Nothing else is normalised: a changed space in the SQL is a changed file.

use std::fmt;

use sha2::{Digest, Sha256};

/// The SHA-256 of a revision file after normalising line endings and dropping a BOM.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Checksum([u8; 32]);

/// Why text is not a checksum (the log holds checksums as 64 lower-case hex digits).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a SHA-256 checksum (64 hexadecimal digits)")]
pub struct InvalidChecksum(pub String);

impl Checksum {
    /// The checksum of a file's bytes.
    pub fn of_file(bytes: &[u8]) -> Self {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut hasher = Sha256::new();
        // Fed in runs between carriage returns: no copy of the file is made.
        let mut rest = bytes;
        while let Some(at) = rest.iter().position(|&b| b == b'\r') {
            hasher.update(&rest[..at]);
            hasher.update(b"\n");
            rest = &rest[at + 1..];
            if let Some(after) = rest.strip_prefix(b"\n") {
                rest = after;
            }
        }
        hasher.update(rest);
        Self(hasher.finalize().into())
    }

    /// The raw 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Reads 64 hexadecimal digits (either case), as [`Checksum`]'s `Display` writes them.
    ///
    /// Without a branch per digit: `check` reads one per logged revision, 10,000 of them.
    pub fn from_hex(text: &str) -> Result<Self, InvalidChecksum> {
        let digits = text.as_bytes();
        if digits.len() != 64 {
            return Err(InvalidChecksum(text.to_owned()));
        }
        let mut bytes = [0u8; 32];
        // An invalid digit's value has its high bits set, and they survive the `|`.
        let mut seen = 0u8;
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let high = HEX_VALUES[usize::from(pair[0])];
            let low = HEX_VALUES[usize::from(pair[1])];
            seen |= high | low;
            *byte = high << 4 | low;
        }
        if seen & NOT_HEX != 0 {
            return Err(InvalidChecksum(text.to_owned()));
        }
        Ok(Self(bytes))
    }

    /// The first 12 hexadecimal digits, for messages.
    pub fn short(&self) -> String {
        let mut text = self.to_string();
        text.truncate(12);
        text
    }
}

/// The value of each byte as a hexadecimal digit, [`NOT_HEX`] for a byte that is not one.
static HEX_VALUES: [u8; 256] = hex_values();

/// A value no digit has.
const NOT_HEX: u8 = 0xF0;

const fn hex_values() -> [u8; 256] {
    let mut values = [NOT_HEX; 256];
    let mut digit = 0;
    while digit < 10 {
        values[b'0' as usize + digit] = digit as u8;
        digit += 1;
    }
    let mut letter = 0;
    while letter < 6 {
        values[b'a' as usize + letter] = 10 + letter as u8;
        values[b'A' as usize + letter] = 10 + letter as u8;
        letter += 1;
    }
    values
}

/// 64 lower-case hexadecimal digits, as `sha256sum` prints them.
impl fmt::Display for Checksum {
    /// Lowercase hexadecimal, written in one piece: every step of a run with the log writes
    /// one, and a formatter call per byte was a tenth of the log's cost to a PostgreSQL step.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 64];
        for (pair, byte) in text.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0f)];
        }
        // Only ASCII digits were written.
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Checksum({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_sha256_of_the_lf_text() {
        // `printf 'a\nb\n' | sha256sum`
        assert_eq!(
            Checksum::of_file(b"a\r\nb\r\n").to_string(),
            "911169ddaaf146aff539f58c26c489af3b892dff0fe283c1c264c65ae5aa59a2"
        );
    }

    #[test]
    fn crlf_lone_cr_and_a_bom_are_not_changes() {
        let lf = Checksum::of_file(b"-- x\nSELECT 1;\n");
        assert_eq!(Checksum::of_file(b"-- x\r\nSELECT 1;\r\n"), lf);
        assert_eq!(Checksum::of_file(b"-- x\rSELECT 1;\r"), lf);
        assert_eq!(Checksum::of_file(b"\xEF\xBB\xBF-- x\r\nSELECT 1;\n"), lf);
        assert_ne!(Checksum::of_file(b"-- x\nSELECT 2;\n"), lf);
        assert_ne!(
            Checksum::of_file(b"-- x\n\nSELECT 1;\n"),
            lf,
            "\\r\\n\\n is two lines"
        );
        assert_eq!(
            Checksum::of_file(b"-- x\r\n\nSELECT 1;\n"),
            Checksum::of_file(b"-- x\n\nSELECT 1;\n")
        );
    }

    #[test]
    fn hex_round_trips_and_rejects_other_text() {
        let sum = Checksum::of_file(b"text");
        assert_eq!(Checksum::from_hex(&sum.to_string()), Ok(sum));
        assert_eq!(Checksum::from_hex(&sum.to_string().to_uppercase()), Ok(sum));
        assert!(Checksum::from_hex("abc").is_err());
        assert!(Checksum::from_hex(&"g".repeat(64)).is_err());
        // One wrong digit anywhere, high or low half of a byte, ASCII or not.
        let text = sum.to_string();
        for at in [0, 1, 31, 62, 63] {
            for wrong in ["g", " ", "/", ":", "@", "`"] {
                let mut bad = text.clone();
                bad.replace_range(at..=at, wrong);
                assert!(Checksum::from_hex(&bad).is_err(), "{bad}");
            }
        }
        assert!(Checksum::from_hex(&format!("{}é", &text[..62])).is_err());
        assert_eq!(sum.short().len(), 12);
    }
}
