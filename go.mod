module github.com/wsgw/wsgw

go 1.26.8

require (
	github.com/awslabs/goformation/v7 v7.14.9
	go.yaml.in/yaml/v3 v3.0.6
)
