-- Revision aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
-- Revision ID: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
-- Revises: 

-- revise:up
CREATE TABLE t_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (id INTEGER);

-- revise:down
DROP TABLE t_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;
