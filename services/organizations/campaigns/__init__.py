"""Campaigns: 分类定级 classification of organizations (先进/一般/后进, against 五个好 or 双强六好) and
整顿软弱涣散 rectification of weak or lax organizations (列入, 一村一策, 第一书记, 包联, 验收销号, 转化率)."""
