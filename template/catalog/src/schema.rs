// @generated automatically by Diesel CLI.

diesel::table! {
    examples (id) {
        id -> Integer,
        name -> Text,
        created_at -> Timestamp,
        priority -> Integer,
    }
}
