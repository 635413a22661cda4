-- Revision aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
-- Revision ID: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
-- Revises: 

-- revise:up
CREATE TABLE t_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (id INTEGER);

-- revise:down
DROP TABLE t_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;
