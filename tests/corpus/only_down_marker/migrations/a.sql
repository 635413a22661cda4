-- m
-- Revision ID: a
-- revise:down
SELECT 1;
