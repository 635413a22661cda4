-- Add categories table
--
-- Revision ID: 002_add_categories
-- Revises:
-- Create Date: 2026-11-23 10:00:00.000000
-- Depends On: 001_create_examples

-- revise:up
CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    name VARCHAR(100) NOT NULL UNIQUE
);

-- revise:down
DROP TABLE categories;
