"""A page's annotations read straight from their PDF dictionaries through MuPDF's C functions.

PyMuPDF's `Annot` properties give the same values but cost ~100 us an annotation: `page.annots()`
finds each annotation by walking the page's list again, and `vertices`, `rect` and `info` rebuild
the page's matrices and wrap every number in Python objects. Here each value comes from the same
MuPDF calls PyMuPDF makes (pymupdf/__init__.py: Page.annots, Annot.vertices, .rect, .info, .colors,
.irt_xref, .popup_xref), with the page's matrices computed once, so the values are bit for bit theirs.
"""

from __future__ import annotations

from functools import cached_property

from pymupdf import Rect, _mupdf, mupdf

from studykit.sources.pdf_text import no_lone_surrogates

_SKIPPED = (mupdf.PDF_ANNOT_LINK, mupdf.PDF_ANNOT_POPUP, mupdf.PDF_ANNOT_WIDGET)  # as Page.annots()
_NAMES = {key: mupdf.PdfObj(getattr(mupdf, f"PDF_ENUM_NAME_{key}"))  # kept alive: the pointers below are theirs
          for key in ("Vertices", "L", "QuadPoints", "InkList", "C", "IC", "IRT", "Popup", "T", "M")}
_NAME = {key: obj.m_internal for key, obj in _NAMES.items()}
_POINT_KEYS = [_NAME["Vertices"], _NAME["L"], _NAME["QuadPoints"]]  # then "CL", then the 2-level InkList
# The SWIG functions themselves: pymupdf.mupdf's ll_* wrappers only pass their arguments on, at a Python
# call each (this runs for every number of every annotation).
_get, _gets = _mupdf.ll_pdf_dict_get, _mupdf.ll_pdf_dict_gets
_at, _len = _mupdf.ll_pdf_array_get, _mupdf.ll_pdf_array_len
_real, _num, _text = _mupdf.ll_pdf_to_real, _mupdf.ll_pdf_to_num, _mupdf.ll_pdf_to_text_string


class PageMarks:
    """A page's annotations, and its matrices, computed once for all of them."""

    def __init__(self, page):
        self.page = page
        self.pdf_page = mupdf.pdf_page_from_fz_page(page.this)

    @cached_property
    def derotation(self):
        return self.page.derotation_matrix

    @cached_property
    def ctm(self):
        ctm = mupdf.FzMatrix()
        mupdf.pdf_page_transform(self.pdf_page, mupdf.FzRect(), ctm)
        return mupdf.fz_concat(ctm, mupdf.FzMatrix(*self.derotation))

    @cached_property
    def ctm_struct(self):
        """`ctm`'s fz_matrix, as the C calls take it (a view into `ctm`, which stays alive with this)."""
        return self.ctm.internal()

    def marks(self) -> list[Mark]:
        """The page's annotations in the order of its /Annots, less links, popups and form fields."""
        found = {}
        annot = mupdf.ll_pdf_first_annot(self.pdf_page.m_internal)
        if annot is None:  # most pages of a paper: no matrices to compute
            return []
        while annot is not None:
            found.setdefault(_num(mupdf.ll_pdf_annot_obj(annot)), annot)
            annot = mupdf.ll_pdf_next_annot(annot)
        return [Mark(self, found[xref], xref) for xref, kind, _ in self.page.annot_xrefs()
                if kind not in _SKIPPED and xref in found]


class Mark:
    """One annotation: PyMuPDF's `Annot` properties that studykit reads, each computed once."""

    def __init__(self, page: PageMarks, annot, xref: int):
        self.parent = page.page
        self._page = page
        self._annot = annot  # a pdf_annot*, alive as long as the page is
        self._obj = mupdf.ll_pdf_annot_obj(annot)
        self.xref = xref

    @cached_property
    def type(self) -> tuple:
        kind = mupdf.ll_pdf_annot_type(self._annot)
        return kind, mupdf.ll_pdf_string_from_annot_type(kind)

    @cached_property
    def info(self) -> dict:
        obj = self._obj
        info = {"content": mupdf.ll_pdf_annot_contents(self._annot) or "",
                "title": _text(_get(obj, _NAME["T"])) or "",
                "creationDate": _text(_gets(obj, "CreationDate")) or "",
                "modDate": _text(_get(obj, _NAME["M"])) or "",
                "id": _text(_gets(obj, "NM")) or ""}
        return {key: no_lone_surrogates(value) for key, value in info.items()}

    @property
    def irt_xref(self) -> int:
        irt = _get(self._obj, _NAME["IRT"])
        return 0 if irt is None else _num(irt)

    @property
    def popup_xref(self) -> int:
        popup = _get(self._obj, _NAME["Popup"])
        return 0 if popup is None else _num(popup)

    @cached_property
    def colors(self) -> dict:
        return {"stroke": self._numbers(_get(self._obj, _NAME["C"])),
                "fill": self._numbers(_get(self._obj, _NAME["IC"]))}

    @cached_property
    def rect(self) -> Rect:
        r = mupdf.ll_pdf_bound_annot(self._annot)
        return Rect(r.x0, r.y0, r.x1, r.y1) * self._page.derotation

    @cached_property
    def vertices(self) -> list | None:
        """The annotation's points in page coordinates: a flat list, or one list per stroke for an InkList."""
        obj, ctm = self._obj, self._page.ctm_struct
        for key in _POINT_KEYS:
            if (points := _get(obj, key)) is not None:
                return _points(points, ctm)
        if (points := _gets(obj, "CL")) is not None:
            return _points(points, ctm)
        if (strokes := _gets(obj, "InkList")) is not None:
            return [_points(_at(strokes, i), ctm) for i in range(_len(strokes))]
        return None

    @property
    def border(self) -> dict:
        return self.parent.load_annot(self.xref).border  # rare (an ink mark with a broken /Rect): PyMuPDF's own

    @staticmethod
    def _numbers(array) -> list[float]:
        if not mupdf.ll_pdf_is_array(array):
            return []
        return [_real(_at(array, i)) for i in range(_len(array))]


def _points(array, ctm) -> list[tuple[float, float]]:
    transform, real = _mupdf.ll_fz_transform_point_xy, _mupdf.ll_pdf_array_get_real  # pdf_to_real(pdf_array_get())
    out = []
    for i in range(0, _len(array), 2):
        p = transform(real(array, i), real(array, i + 1), ctm)
        out.append((p.x, p.y))
    return out

