-- m
-- Revision ID: a
DROP TABLE users;
-- revise:up
