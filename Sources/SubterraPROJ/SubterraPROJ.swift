// placeholder, replaced by the SubterraPROJ work
