// placeholder, replaced by the SubterraModel work
