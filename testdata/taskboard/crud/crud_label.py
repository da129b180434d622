from crud.base import CRUDBase
from models.label import Label

label = CRUDBase(Label)
