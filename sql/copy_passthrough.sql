--
-- copy_passthrough: COPY FROM into a distributed table forwards each row's
-- input line to its shard when the row reaches the shard unchanged (every
-- column from the input, types whose text input does not depend on session
-- settings); otherwise rows are re-formatted.  Either way the shards must
-- hold exactly what a local table gets from the same COPY.
--
CREATE SCHEMA cpt;
SET search_path = cpt, public;
CREATE TABLE dist (id bigint PRIMARY KEY, k int, t text, n numeric(10,2),
                   b boolean, j jsonb, v varchar(8));
CREATE TABLE loc (LIKE dist INCLUDING ALL);
SELECT create_distributed_table('dist', 'id', shard_count => 4);

-- compare the two tables row by row
CREATE FUNCTION same() RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN count(*) = 0 THEN 'same (' || (SELECT count(*) FROM cpt.loc) || ' rows)'
              ELSE count(*) || ' rows differ' END
    FROM ((SELECT * FROM cpt.dist EXCEPT ALL SELECT * FROM cpt.loc)
          UNION ALL
          (SELECT * FROM cpt.loc EXCEPT ALL SELECT * FROM cpt.dist)) d
$$;

-- CSV: quotes, delimiters and newlines inside values, NULL vs empty string,
-- numeric rounding by the column's typmod, booleans spelled many ways
COPY dist FROM STDIN (FORMAT csv);
1,10,plain,1.005,t,"{""a"": 1}",abc
2,,"with, comma",2,yes,[],
3,30,"multi
line",-3.999,0,"{""b"": [1, 2]}","q""uote"
4,40,"",0.5,false,null,""
5,50,"back\slash",100,on,"""s""",x
\.
COPY loc FROM STDIN (FORMAT csv);
1,10,plain,1.005,t,"{""a"": 1}",abc
2,,"with, comma",2,yes,[],
3,30,"multi
line",-3.999,0,"{""b"": [1, 2]}","q""uote"
4,40,"",0.5,false,null,""
5,50,"back\slash",100,on,"""s""",x
\.
SELECT same();

-- text format with escapes and a custom NULL
COPY dist FROM STDIN (FORMAT text, NULL 'NIL');
6	60	tab\there	6.66	t	{}	new\nl
7	NIL	back\\slash	NIL	NIL	NIL	NIL
8	80	\x41\101	8	f	[1]	\\N
\.
COPY loc FROM STDIN (FORMAT text, NULL 'NIL');
6	60	tab\there	6.66	t	{}	new\nl
7	NIL	back\\slash	NIL	NIL	NIL	NIL
8	80	\x41\101	8	f	[1]	\\N
\.
SELECT same();

-- other delimiters and quotes
COPY dist FROM STDIN (FORMAT csv, DELIMITER ';', QUOTE '''', NULL 'none', HEADER);
id;k;t;n;b;j;v
9;90;'semi;colon';9;t;none;'it''s'
10;none;none;none;none;none;none
\.
COPY loc FROM STDIN (FORMAT csv, DELIMITER ';', QUOTE '''', NULL 'none', HEADER);
id;k;t;n;b;j;v
9;90;'semi;colon';9;t;none;'it''s'
10;none;none;none;none;none;none
\.
SELECT same();

-- a column list: the other columns take the coordinator's defaults, so
-- rows are re-formatted
ALTER TABLE loc ALTER COLUMN k SET DEFAULT 7;
ALTER TABLE dist ALTER COLUMN k SET DEFAULT 7;
COPY dist (id, t) FROM STDIN (FORMAT csv);
11,defaulted
\.
COPY loc (id, t) FROM STDIN (FORMAT csv);
11,defaulted
\.
SELECT same();

-- a value too long for varchar(8) fails on the coordinator, nothing stays
COPY dist FROM STDIN (FORMAT csv);
12,1,ok,1,t,{},ok
13,1,too long,1,t,{},123456789
\.
SELECT count(*) FROM dist WHERE id IN (12, 13);

-- a date column: its input depends on DateStyle, so rows are re-formatted
-- and read with the coordinator's DateStyle
CREATE TABLE ddist (id int PRIMARY KEY, d date);
CREATE TABLE dloc (LIKE ddist INCLUDING ALL);
SELECT create_distributed_table('ddist', 'id', shard_count => 4);
SET DateStyle = 'SQL, DMY';
COPY ddist FROM STDIN (FORMAT csv);
1,02/01/2024
2,31/12/2023
\.
COPY dloc FROM STDIN (FORMAT csv);
1,02/01/2024
2,31/12/2023
\.
RESET DateStyle;
SELECT d.id, d.d, l.d AS local_d, d.d = l.d AS same
  FROM ddist d JOIN dloc l USING (id) ORDER BY id;

SET client_min_messages = warning;
DROP SCHEMA cpt CASCADE;
