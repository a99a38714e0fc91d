-- \if / \elif / \else / \endif, nested, and \sleep inside a branch.
\set r random(1, 100)
\if :r <= 25
  INSERT INTO compat_events (kind, n) VALUES ('low', :r);
\elif :r <= 50
  \if :r % 2 = 0
    INSERT INTO compat_events (kind, n) VALUES ('mid-even', :r);
  \else
    INSERT INTO compat_events (kind, n) VALUES ('mid-odd', :r);
  \endif
  \sleep 1 ms
\elif :r <= 75
  INSERT INTO compat_events (kind, n) VALUES ('high', :r);
\else
  \sleep :r us
\endif
