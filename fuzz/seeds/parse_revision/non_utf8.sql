-- Revision a
-- Revision ID: a
-- Revises: 

-- revise:up
CREATE ÿ TABLE t_a (id INTEGER);

-- revise:down
DROP TABLE t_a;
