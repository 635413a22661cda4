-- Revision c
-- Revision ID: c
-- Revises: b

-- revise:up
CREATE TABLE t_c (id INTEGER);

-- revise:down
DROP TABLE t_c;
