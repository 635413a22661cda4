-- Remove description column
--
-- Revision ID: 004_remove_description
-- Revises: 003_add_priority
-- Create Date: 2026-11-23 12:00:00.000000

-- revise:up
ALTER TABLE examples DROP COLUMN description;

-- revise:down
ALTER TABLE examples ADD COLUMN description TEXT;
