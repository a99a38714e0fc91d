-- The 2019 sample's SELECT: revenue by transaction type.
SELECT type.name, count(*) AS transactions, sum(transactions.quantity * transactions.price) AS revenue
FROM transactions JOIN type ON type.id = transactions.type
GROUP BY type.name;
