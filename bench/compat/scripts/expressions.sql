-- Every operator and function of pgbench's expression language, on random inputs; the values
-- are stored as the text each side sends, so doubles are compared as printed (%.15g).
\set a random(-1000, 1000)
\set b random(1, 50)
\set x random(1, 100000) / 1000.0
\set add :a + :b
\set sub :a - :b
\set mul :a * :b
\set div :a / :b
\set md :a % :b
\set fdiv :x / 3
\set neg -:a
\set bits (:a & 255) | (:b << 3) # ~:b
\set shr :a >> 2
\set logic (:a < :b) AND (:a <> 0) OR NOT (:b >= 10)
\set nulls :a IS NULL OR :b NOTNULL
\set cs CASE WHEN :a > 500 THEN 1 WHEN :a > 0 THEN 2 ELSE 3 END
\set ab abs(:a)
\set lst least(:a, :b, :x)
\set gst greatest(:a, :b)
\set i int(:x * 7.5)
\set d double(:a) / 7
\set pw pow(:x, 1.5)
\set sq sqrt(:x)
\set l ln(:x + 1)
\set e exp(:x / 100)
\set pie pi() * :b
\set h hash(:a)
\set hf hash_fnv1a(:a, :b)
\set hm hash_murmur2(:a, 77)
\set pm permute(:b, 50)
\set pm2 permute(:b, 50, :a)
INSERT INTO compat_expr (a, b, x, add, sub, mul, div, md, fdiv, neg, bits, shr, logic, nulls, cs, ab, lst, gst, i, d, pw, sq, l, e, pie, h, hf, hm, pm, pm2)
VALUES (:a, :b, :x, :add, :sub, :mul, :div, :md, :fdiv, :neg, :bits, :shr, :logic, :nulls, :cs, :ab, :lst, :gst, :i, :d, :pw, :sq, :l, :e, :pie, :h, :hf, :hm, :pm, :pm2);
