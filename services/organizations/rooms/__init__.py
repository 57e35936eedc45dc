"""Rooms: 党代表工作室 (Party congress delegates' liaison rooms) — the rooms, the delegates stationed in
each (进室), their heads and liaison staff, and the receptions (接待) and visits (走访) recorded there."""
