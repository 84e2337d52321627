"""Masked forms of personal data for display (DOMAIN.md, Privacy).

Masks are computed when the number is written (`Holder.id_number_masked`) so that list pages
and reports show them without decrypting anything.
"""

from registry.validators import normalise_id_number

# Two-character (复姓) surnames that appear in practice; a name starting with one of them keeps
# both characters, as in 欧阳*, when something follows the surname.
_COMPOUND_SURNAMES_TEXT = """
    欧阳 太史 端木 上官 司马 东方 独孤 南宫 万俟 闻人 夏侯 诸葛 尉迟 公羊 赫连 澹台 皇甫 宗政 濮阳 公冶
    太叔 申屠 公孙 慕容 仲孙 钟离 长孙 宇文 司徒 鲜于 司空 闾丘 子车 亓官 司寇 巫马 公西 颛孙 壤驷 公良
    漆雕 乐正 宰父 谷梁 拓跋 夹谷 轩辕 令狐 段干 百里 呼延 东郭 南门 羊舌 微生 公户 公玉 公仪 梁丘 公仲
    公上 公门 公山 公坚 左丘 公伯 西门 公祖 第五 公乘 贯丘 公皙 南荣 东里 东宫 仲长 子书 子桑 即墨 达奚
    褚师 单于 完颜 耶律 归海 东门
"""
COMPOUND_SURNAMES = frozenset(_COMPOUND_SURNAMES_TEXT.split())


def mask_id_number(id_type: str, value: str) -> str:
    """`110105********1239` for resident IDs; a short prefix and suffix for other documents."""
    s = normalise_id_number(value)
    n = len(s)
    if not s:
        return ""
    if id_type == "111" or n >= 15:
        # Resident ID (and long codes such as the USCC): area code and last four stay visible.
        keep_head, keep_tail = 6, 4
        if n <= keep_head + keep_tail:
            keep_head, keep_tail = n // 3, n // 4
        return s[:keep_head] + "*" * max(8, n - keep_head - keep_tail) + s[n - keep_tail :]
    if n <= 4:
        return "*" * n
    keep = 1 if n <= 6 else 2
    return s[:keep] + "*" * (n - 2 * keep) + s[n - keep :]


def mask_name(name: str) -> str:
    """A person's surname followed by `*`: 张三 → 张*, 欧阳娜娜 → 欧阳*."""
    name = (name or "").strip()
    if not name:
        return ""
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2] + "*"
    return name[0] + "*"


def mask_holder_name(holder) -> str:
    """Persons' names are masked; an organisation's name is public and shown as registered."""
    from registry.models import HolderKind

    return mask_name(holder.name) if holder.kind == HolderKind.PERSON else holder.name
