-- m
-- Revision ID: a
-- Revises:
-- revise:up
CREATE TABLE t_a (id INTEGER);
