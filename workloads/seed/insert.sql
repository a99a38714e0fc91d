-- The 2019 sample's INSERT: one transaction of a random type (1-10), on a date within the last
-- year, with a random quantity (1-100) and price (0.01-1000.00).
\set type random(1, 10)
\set days random(0, 364)
\set quantity random(1, 100)
\set cents random(1, 100000)
INSERT INTO transactions (type, date, quantity, price)
VALUES (:type, current_date - :days::int, :quantity, :cents::int / 100.0);
