-- Revision ABC
-- Revision ID: ABC
-- Revises: abc

-- revise:up
CREATE TABLE t_ABC (id INTEGER);

-- revise:down
DROP TABLE t_ABC;
