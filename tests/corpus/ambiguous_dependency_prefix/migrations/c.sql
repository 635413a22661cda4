-- Revision c
-- Revision ID: c
-- Revises: ab2
-- Depends On: ab
-- revise:up
CREATE TABLE t_c (id INTEGER);

-- revise:down
DROP TABLE t_c;
