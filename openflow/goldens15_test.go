package openflow

func goldensNew() []golden { return nil }
