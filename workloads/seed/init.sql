-- The 2019 sample's schema, kept as its DDL table gave it, and its ten transaction types.
-- Safe to run again: nothing is created twice, no row is added twice.
CREATE TABLE IF NOT EXISTS transactions (id serial, type int, date date, quantity int, price double precision);
CREATE TABLE IF NOT EXISTS type (id int, name text);
INSERT INTO type (id, name)
SELECT i, 'type ' || i FROM generate_series(1, 10) AS i
WHERE NOT EXISTS (SELECT 1 FROM type);
