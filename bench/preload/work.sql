-- The sqlite3 workload of make bench-preload: an in-memory database (run
-- as sqlite3 :memory: < work.sql): rows inserted from a recursive query,
-- an index built, then grouped, joined and sorted queries, and an update
-- and a delete of a third of the rows.
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, val REAL, note TEXT);
WITH RECURSIVE c(i, x) AS (SELECT 1, 12345 UNION ALL SELECT i + 1, x * 16807 % 2147483647 FROM c WHERE i < 200000)
INSERT INTO t SELECT i, printf('n%08x', x), x % 1000, (x % 100003) / 7.0, substr(printf('%x%x%x', x, x * 3, x * 7), 1, 8 + x % 20) FROM c;
CREATE INDEX t_name ON t(name);
CREATE INDEX t_grp ON t(grp, val);
SELECT count(*), sum(length(note)), min(name), max(name) FROM t;
SELECT grp, count(*), round(sum(val), 3) FROM t GROUP BY grp ORDER BY count(*) DESC, grp LIMIT 10;
SELECT count(*) FROM t a JOIN t b ON a.name = substr(b.name, 1, 9) WHERE b.grp < 500;
SELECT name, note FROM t ORDER BY note DESC, id LIMIT 5;
UPDATE t SET note = note || note WHERE grp % 3 = 0;
DELETE FROM t WHERE grp % 3 = 1;
SELECT count(*), sum(length(note)) FROM t;
SELECT group_concat(name, '') IS NOT NULL, length(group_concat(note, ',')) FROM t;
