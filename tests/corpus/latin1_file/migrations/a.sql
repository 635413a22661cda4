-- Créer la table
-- Revision ID: a
-- revise:up
SELECT 'é';
