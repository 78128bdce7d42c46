from rest_framework import viewsets
class GridNodeViewSet(viewsets.ViewSet): pass
