-- message
-- Revises:
-- revise:up
SELECT 1;
