-- m
-- Revision ID: b
-- Revises: a
-- revise:up
CREATE TABLE t_b (id INTEGER);
THIS IS NOT SQL;
-- revise:down
DROP TABLE t_b;
