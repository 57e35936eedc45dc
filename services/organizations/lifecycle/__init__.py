"""Lifecycle: an organization's life after founding — 更名 rename, 升格 upgrade, 整建制转移 transfer
whole, 合并 merge, 撤销 dissolve, 恢复 restore — and its committees and terms: 换届选举 elections, 延期换届
postponements, 换届提醒 reminders."""
