"""Posts: 无职党员设岗定责 — a branch's posts for members without office (政策宣传, 环境卫生, 矛盾调解,
关爱老人…), who holds them, each member's yearly public commitment (公开承诺) and the review of its
fulfilment (践诺评议), whose evidence reference a duty-star score (职责星) cites."""
