-- m
-- Revision ID: a
-- revise:up
SELECT 1;
-- revise:up
SELECT 2;
