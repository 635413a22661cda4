-- Add priority column to examples
--
-- Revision ID: 003_add_priority
-- Revises: 001_create_examples
-- Create Date: 2026-11-23 11:00:00.000000

-- revise:up
ALTER TABLE examples ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;

-- revise:down
ALTER TABLE examples DROP COLUMN priority;
