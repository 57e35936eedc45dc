"""Registry: the county (县/区), its townships (乡镇), Party organizations (党组织: 基层党委, 党总支, 党支部,
联合党支部, 党小组) and members (党员), and the member import (批量导入党员)."""
