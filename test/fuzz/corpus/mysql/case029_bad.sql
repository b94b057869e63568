DROP TABLE IF EXISTS orders_del,
  orders;