-- One draw of each random function per transaction.
\set u random(1, 1000)
\set x random_exponential(1, 1000, 5.0)
\set g random_gaussian(1, 1000, 2.5)
\set z random_zipfian(1, 1000, 1.5)
INSERT INTO compat_draws (u, x, g, z) VALUES (:u, :x, :g, :z);
