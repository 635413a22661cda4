-- Revision ab1
-- Revision ID: ab1
-- Revises: 

-- revise:up
CREATE TABLE t_ab1 (id INTEGER);

-- revise:down
DROP TABLE t_ab1;
