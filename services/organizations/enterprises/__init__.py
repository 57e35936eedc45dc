"""两新组织: non-public enterprises and social organizations (统一社会信用代码), founding their Party
organizations (单独组建, 联合组建, 行业统建, 区域联建, 楼宇共建), instructors (党建指导员/联络员), 工青妇, and
coverage (组织覆盖率, 工作覆盖率, the targets such as 4个100%)."""
