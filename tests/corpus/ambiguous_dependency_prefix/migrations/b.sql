-- Revision ab2
-- Revision ID: ab2
-- Revises: ab1

-- revise:up
CREATE TABLE t_ab2 (id INTEGER);

-- revise:down
DROP TABLE t_ab2;
