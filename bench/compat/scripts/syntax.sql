-- How pgbench splits SQL: a statement over several lines, comments, quotes and dollar quotes
-- holding semicolons, :: casts next to variables.
\set v random(1, 9)
/* a block comment; with a semicolon */
INSERT INTO compat_text (a, b, c) -- a trailing comment; too
  VALUES ('semi;colon', $$dollar ; 'quoted'$$, :v::int * 2);
INSERT INTO compat_text (a, b, c) VALUES (E'it\'s', "upper"(';'), (SELECT count(*) FROM compat_text));
