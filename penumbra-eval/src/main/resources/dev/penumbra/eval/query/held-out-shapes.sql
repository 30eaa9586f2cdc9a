-- Held-out query shapes over the TPC-H tables: `bench query` tests them and never trains on them.
-- Each is a shape no training template has (top-N, DISTINCT, count(DISTINCT) over joins, semi/anti joins,
-- windows, correlated subqueries, wide string sorts, many groups, LIMIT).

-- top-N on a wide string
SELECT l_orderkey, l_comment FROM lineitem ORDER BY l_comment LIMIT 10;
SELECT o_orderkey, o_clerk, o_comment FROM orders ORDER BY o_comment DESC, o_orderkey LIMIT 25;
SELECT p_partkey, p_name FROM part ORDER BY p_name LIMIT 5;
SELECT s_suppkey, s_name, s_acctbal FROM supplier ORDER BY s_acctbal DESC LIMIT 20;
-- DISTINCT
SELECT DISTINCT l_comment FROM lineitem WHERE l_shipmode = 'AIR';
SELECT DISTINCT o_custkey FROM orders WHERE o_orderdate >= DATE '1996-01-01';
SELECT DISTINCT l_partkey, l_suppkey FROM lineitem WHERE l_quantity > 45;
SELECT count(*) FROM (SELECT DISTINCT p_type, p_size FROM part) t;
-- count(DISTINCT) over joins
SELECT count(DISTINCT o_custkey) AS buyers FROM orders JOIN lineitem ON l_orderkey = o_orderkey WHERE l_quantity < 20;
SELECT n_name, count(DISTINCT c_custkey) AS customers, count(DISTINCT o_orderkey) AS orders FROM nation
  JOIN customer ON c_nationkey = n_nationkey JOIN orders ON o_custkey = c_custkey GROUP BY n_name;
SELECT l_shipmode, count(DISTINCT l_partkey) AS parts FROM lineitem JOIN orders ON o_orderkey = l_orderkey
  WHERE o_orderpriority = '1-URGENT' GROUP BY l_shipmode;
SELECT count(DISTINCT ps_suppkey) FROM partsupp JOIN part ON p_partkey = ps_partkey WHERE p_size < 10;
-- semi and anti joins
SELECT count(*) FROM orders WHERE EXISTS (SELECT 1 FROM lineitem WHERE l_orderkey = o_orderkey AND l_discount > 0.09);
SELECT count(*) FROM orders WHERE NOT EXISTS (SELECT 1 FROM lineitem WHERE l_orderkey = o_orderkey
  AND l_returnflag = 'R');
SELECT c_custkey, c_name FROM customer WHERE c_custkey IN (SELECT o_custkey FROM orders WHERE o_totalprice > 400000);
SELECT count(*) FROM part WHERE p_partkey NOT IN (SELECT l_partkey FROM lineitem WHERE l_shipdate < DATE '1993-01-01');
SELECT s_name FROM supplier WHERE EXISTS (SELECT 1 FROM partsupp WHERE ps_suppkey = s_suppkey AND ps_availqty < 10)
  ORDER BY s_name;
-- windows
SELECT l_orderkey, l_linenumber, row_number() OVER (PARTITION BY l_orderkey ORDER BY l_extendedprice DESC) AS rn
  FROM lineitem;
SELECT o_custkey, o_orderdate, lag(o_totalprice) OVER (PARTITION BY o_custkey ORDER BY o_orderdate) AS prev FROM orders;
SELECT c_nationkey, c_custkey, percent_rank() OVER (PARTITION BY c_nationkey ORDER BY c_acctbal) AS pr FROM customer;
SELECT l_shipdate, sum(l_quantity) OVER (ORDER BY l_shipdate ROWS BETWEEN 10 PRECEDING AND CURRENT ROW) AS s
  FROM lineitem WHERE l_shipmode = 'RAIL';
SELECT ps_partkey, ps_suppkey, dense_rank() OVER (PARTITION BY ps_partkey ORDER BY ps_supplycost) AS r FROM partsupp;
-- correlated subqueries
SELECT count(*) FROM lineitem l1 WHERE l_quantity > (SELECT avg(l_quantity) FROM lineitem l2
  WHERE l2.l_partkey = l1.l_partkey);
SELECT o_orderkey, o_totalprice FROM orders o WHERE o_totalprice > (SELECT 2 * avg(o2.o_totalprice) FROM orders o2
  WHERE o2.o_custkey = o.o_custkey) ORDER BY o_totalprice DESC LIMIT 100;
SELECT p_partkey FROM part WHERE p_retailprice < (SELECT min(ps_supplycost) * 2 FROM partsupp
  WHERE ps_partkey = p_partkey);
-- wide string sorts
SELECT c_name, c_address, c_comment FROM customer ORDER BY c_comment;
SELECT o_orderkey, o_comment FROM orders WHERE o_orderstatus = 'O' ORDER BY o_comment, o_orderkey;
SELECT l_orderkey, l_linenumber, l_comment, l_shipinstruct FROM lineitem WHERE l_shipdate < DATE '1993-06-01'
  ORDER BY l_shipinstruct, l_comment;
-- GROUP BY with many groups
SELECT l_orderkey, count(*) AS n, max(l_shipdate) AS last FROM lineitem GROUP BY l_orderkey;
SELECT l_suppkey, l_partkey, avg(l_extendedprice) AS p FROM lineitem GROUP BY l_suppkey, l_partkey HAVING count(*) > 2;
SELECT o_custkey, o_orderstatus, count(*) AS n FROM orders GROUP BY o_custkey, o_orderstatus;
SELECT ps_partkey, sum(ps_availqty * ps_supplycost) AS value FROM partsupp GROUP BY ps_partkey ORDER BY value DESC;
SELECT l_comment, count(*) FROM lineitem GROUP BY l_comment;
-- LIMIT
SELECT * FROM lineitem LIMIT 1000;
SELECT o_orderkey, o_totalprice FROM orders WHERE o_orderpriority = '5-LOW' LIMIT 50;
SELECT l_orderkey, sum(l_quantity) AS q FROM lineitem GROUP BY l_orderkey ORDER BY q DESC LIMIT 10;
