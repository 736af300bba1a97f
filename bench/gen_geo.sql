-- bench/gen_geo.sql: seed 004's geo_ips, deterministic: 4096 /24 networks
-- covering 10.0.0.0/12, where every user_ip of gen.sql lies in exactly one.
\set ON_ERROR_STOP on

INSERT INTO geo_ips (addrs, latlon)
SELECT set_masklen('10.0.0.0'::inet + g * 256, 24)::cidr,
       point((g * 7) % 180 - 90, (g * 13) % 360 - 180)
  FROM generate_series(0::bigint, 4095) g;
