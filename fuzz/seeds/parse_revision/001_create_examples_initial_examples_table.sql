-- Initial examples table
--
-- Revision ID: 001_create_examples
-- Revises:
-- Create Date: 2026-11-23 09:00:00.000000

-- revise:up
CREATE TABLE examples (
    id INTEGER PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    description TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- revise:down
DROP TABLE examples;
