def home(r): pass
def node_detail(r, pk): pass
