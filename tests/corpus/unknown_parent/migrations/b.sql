-- Revision b
-- Revision ID: b
-- Revises: zzz

-- revise:up
CREATE TABLE t_b (id INTEGER);

-- revise:down
DROP TABLE t_b;
