-- \gset and \aset feed query results to later commands.
\set id random(1, 20)
SELECT count(*) AS n, coalesce(max(v), 0) AS top FROM compat_kv WHERE k = :id \gset
\set next :top + :n + 1
BEGIN;
INSERT INTO compat_kv (k, v) VALUES (:id, :next);
SELECT :id::int * 2 AS double_k \gset prev_
SELECT 5 AS bonus, 'x' AS tag \aset
UPDATE compat_kv SET v = v + :prev_double_k + :bonus WHERE k = :id AND v = :next;
END;
