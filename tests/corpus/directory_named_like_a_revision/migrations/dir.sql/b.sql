-- Revision b
-- Revision ID: b
-- Revises: a

-- revise:up
CREATE TABLE t_b (id INTEGER);

-- revise:down
DROP TABLE t_b;
