-- The tables the compatibility scripts write; created once per run of the suite.
CREATE TABLE IF NOT EXISTS compat_expr (id serial PRIMARY KEY, a text, b text, x text, add text, sub text, mul text, div text, md text,
  fdiv text, neg text, bits text, shr text, logic text, nulls text, cs text, ab text, lst text, gst text, i text, d text, pw text,
  sq text, l text, e text, pie text, h text, hf text, hm text, pm text, pm2 text);
CREATE TABLE IF NOT EXISTS compat_events (id serial PRIMARY KEY, kind text, n int);
CREATE TABLE IF NOT EXISTS compat_kv (id serial PRIMARY KEY, k int, v bigint);
CREATE TABLE IF NOT EXISTS compat_builtins (id serial PRIMARY KEY, client_id text, random_seed text, default_seed text, scale text, label text, f text);
CREATE TABLE IF NOT EXISTS compat_text (id serial PRIMARY KEY, a text, b text, c int);
CREATE TABLE IF NOT EXISTS compat_draws (id serial PRIMARY KEY, u int, x int, g int, z int);
