-- pgbench's built-in variables and -D values.
\set f :factor * 2
INSERT INTO compat_builtins (client_id, random_seed, default_seed, scale, label, f)
VALUES (:client_id, :random_seed, :default_seed, :scale, :label, :f);
