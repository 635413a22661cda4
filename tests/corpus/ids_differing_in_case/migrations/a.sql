-- Revision abc
-- Revision ID: abc
-- Revises: 

-- revise:up
CREATE TABLE t_abc (id INTEGER);

-- revise:down
DROP TABLE t_abc;
