"""Mobile members (流动党员): away recorded, registered as mobile with destination, contact and the
receiving organization or service point (双重管理), return; the county's service points (流动党员服务站点)."""
